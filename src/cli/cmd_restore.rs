//! `sgguard restore`: puts back exactly the rules a message says sgguard revoked, with their
//! descriptions, through a role the operator names (the remediation role can only revoke);
//! optionally writing a time-limited exemption first, so that the guard leaves them.

use serde_json::Value;

use super::{EXIT_CLEAN, EXIT_ERROR, LiveSetup, RestoreArgs, policy_flag, print_error};
use crate::aws::Aws;
use crate::enforce::restore::{put_back, select, with_exemption};

/// Largest message read: an inbox message is at most 256 KB.
const MAX_MESSAGE_BYTES: u64 = 1024 * 1024;

pub fn run(args: &RestoreArgs) -> u8 {
    let revoked = match read(&args.message).and_then(|doc| select(&doc, &args.message, &args.rules))
    {
        Ok(revoked) => revoked,
        Err(error) => {
            print_error(error);
            return EXIT_ERROR;
        }
    };
    let LiveSetup {
        settings,
        baseline,
        runtime,
    } = match LiveSetup::new(None, &[policy_flag(args.policy.as_deref())]) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    if args.exempt_days.is_some() && settings.exemptions_uri.is_none() {
        print_error(
            "`--exempt-days` writes to the exemptions file: set `SGGUARD_EXEMPTIONS_URI` (the \
             hub module's `exemptions_enabled`)",
        );
        return EXIT_ERROR;
    }
    runtime.block_on(async {
        let aws = match Aws::from_env(&args.role_name).await {
            Ok(aws) => aws,
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        };
        if let (Some(days), Some(uri)) = (args.exempt_days, &settings.exemptions_uri) {
            let current = match aws.object_text(uri).await {
                Ok(fetched) => Some(fetched.text),
                Err(error) if error.code_is("NoSuchKey") => None,
                Err(error) => {
                    print_error(format!("cannot read the exemptions file: {error}"));
                    return EXIT_ERROR;
                }
            };
            let until = jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .checked_add(jiff::Span::new().days(i64::from(days)))
                .unwrap_or(jiff::civil::Date::MAX);
            let text = with_exemption(current.as_deref(), &revoked, until, args.reason.as_deref());
            // Validated as the hub will read it: a file that would not load is never written.
            if let Err(error) = baseline.with_exemptions_file(&text, &uri.to_string()) {
                print_error(format!(
                    "the exemption would not validate, nothing written: {error}"
                ));
                return EXIT_ERROR;
            }
            if let Err(error) = aws.put_text(uri, &text).await {
                print_error(error);
                return EXIT_ERROR;
            }
            println!("exemption written to {uri}, until {until}");
        }
        let mut failed = false;
        for (rule, result) in put_back(&*aws, &revoked).await {
            match result {
                Ok(new_id) => println!(
                    "restored {} in {} {} group {} as {}",
                    rule.rule_id,
                    rule.account,
                    rule.region,
                    rule.group,
                    new_id.as_deref().unwrap_or("a new rule")
                ),
                Err(error) => {
                    failed = true;
                    print_error(format!("{} not restored: {error}", rule.rule_id));
                }
            }
        }
        if failed { EXIT_ERROR } else { EXIT_CLEAN }
    })
}

/// The message's JSON document (`-`: standard input).
fn read(path: &str) -> Result<Value, String> {
    let bytes = if path == "-" {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), MAX_MESSAGE_BYTES + 1),
            &mut buffer,
        )
        .map_err(|e| format!("cannot read standard input: {e}"))?;
        buffer
    } else {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{path}`: {e}"))?
            .len();
        if size > MAX_MESSAGE_BYTES {
            return Err(format!("`{path}` is larger than {MAX_MESSAGE_BYTES} bytes"));
        }
        std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?
    };
    serde_json::from_slice(&bytes).map_err(|e| format!("`{path}` is not valid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_larger_than_the_limit_is_refused_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("sgguard-restore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.json");
        std::fs::write(&path, vec![b' '; MAX_MESSAGE_BYTES as usize + 1]).unwrap();
        let error = read(path.to_str().unwrap()).unwrap_err();
        assert!(
            error.contains("big.json") && error.contains("larger than"),
            "{error}"
        );
        std::fs::write(&path, b"{not json").unwrap();
        let error = read(path.to_str().unwrap()).unwrap_err();
        assert!(error.contains("is not valid JSON"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
