//! README.md's commands, read one way by the offline README tests and by the check of its `aws`
//! lines against the AWS API models (the emulator binary: the models come with the venv).

/// README.md and the docs/ pages, as the tests read them.
pub fn readme() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut text = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    // The docs/ pages' commands too: the README's sections moved there.
    let mut pages: Vec<_> = std::fs::read_dir(format!("{root}/docs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    for page in pages {
        text.push('\n');
        text.push_str(&std::fs::read_to_string(page).unwrap());
    }
    text
}

/// Splits a command line on spaces, keeping double-quoted words whole.
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The commands of README.md's `sh` blocks (fences inside list items are indented), each
/// without its trailing comment and redirection.
pub fn sh_commands(readme: &str) -> Vec<String> {
    let mut in_sh = false;
    let mut out = Vec::new();
    for line in readme.lines() {
        let line = line.trim_start();
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let command = line.split("  #").next().unwrap_or(line);
        let command = command.split(" >").next().unwrap_or(command).trim();
        out.push(command.to_owned());
    }
    out
}

/// An `aws SERVICE OPERATION --option value …` line: the operation it calls and its options
/// (without `--`).
pub struct AwsCall {
    pub service: String,
    pub operation: String,
    pub options: Vec<String>,
}

/// `command` as an API call: `None` for a line that is not `aws …` and for the CLI's own file
/// commands (`aws s3 cp` and the like, checked here: they call no one operation); a line
/// without `SERVICE OPERATION` fails the test.
pub fn aws_call(command: &str) -> Option<AwsCall> {
    let words = words(command.strip_prefix("aws ")?);
    let [service, operation, options @ ..] = words.as_slice() else {
        panic!("README: `{command}`: expected `aws SERVICE OPERATION`");
    };
    if service == "s3" {
        assert!(
            ["cp", "ls", "mv", "rm", "sync"].contains(&operation.as_str()),
            "README: `{command}`: `aws s3 {operation}` is not an `aws s3` command"
        );
        return None;
    }
    Some(AwsCall {
        service: service.clone(),
        operation: operation.clone(),
        options: options
            .iter()
            .filter_map(|o| o.strip_prefix("--"))
            .map(str::to_owned)
            .collect(),
    })
}
