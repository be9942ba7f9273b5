//! The commands of README.md and docs/, read one way by the offline README tests and by the
//! check of their `aws` lines against the AWS API models (the emulator binary: the models come
//! with the venv).

/// README.md, then every page of docs/, each with its path from the repository root.
pub fn pages() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut names: Vec<String> = std::fs::read_dir(format!("{root}/docs"))
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    names.sort();
    names.insert(0, "README.md".to_owned());
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(format!("{root}/{name}")).unwrap();
            (name, text)
        })
        .collect()
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

/// The lines of the `sh` blocks of every page, each with its page, without a trailing comment
/// or redirection (fences inside list items are indented).
pub fn sh_commands() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (page, text) in pages() {
        let mut in_sh = false;
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with("```") {
                in_sh = line.trim() == "```sh";
                continue;
            }
            if in_sh {
                let command = line.split("  #").next().unwrap_or(line);
                let command = command.split(" >").next().unwrap_or(command).trim();
                out.push((page.clone(), command.to_owned()));
            }
        }
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

/// `command` (on `page`) as an API call: `None` for a line that is not `aws …` and for the
/// CLI's own file commands (`aws s3 cp` and the like, checked here: they call no one
/// operation); a line without `SERVICE OPERATION` fails the test.
pub fn aws_call(page: &str, command: &str) -> Option<AwsCall> {
    let words = words(command.strip_prefix("aws ")?);
    let [service, operation, options @ ..] = words.as_slice() else {
        panic!("{page}: `{command}`: expected `aws SERVICE OPERATION`");
    };
    if service == "s3" {
        assert!(
            ["cp", "ls", "mv", "rm", "sync"].contains(&operation.as_str()),
            "{page}: `{command}`: `aws s3 {operation}` is not an `aws s3` command"
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
