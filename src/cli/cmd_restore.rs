//! `sgguard restore`: puts back exactly the rules a message says sgguard revoked, once the hub's
//! revocation journal shows sgguard revoked them, with their descriptions, through a role the
//! operator names (the remediation role can only revoke); then, optionally, a time-limited
//! exemption so that the guard leaves them.

use serde_json::Value;

use super::{EXIT_CLEAN, EXIT_ERROR, LiveSetup, RestoreArgs, policy_flag, print_error};
use crate::aws::{Aws, Fetched, S3Uri};
use crate::enforce::journal::Journal;
use crate::enforce::restore::{ExemptionsObject, put_back, select, verify, write_exemption};

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
    if let Some(days) = args.exempt_days
        && days > settings.exemptions_max_days
    {
        print_error(format!(
            "`--exempt-days {days}` is more than the {} days an exemptions file's entry may run              (`SGGUARD_EXEMPTIONS_MAX_DAYS`); the hub would refuse the file",
            settings.exemptions_max_days
        ));
        return EXIT_ERROR;
    }
    match (&settings.state_table, args.without_journal) {
        (Some(table), true) => {
            print_error(format!(
                "`--without-journal` is for hubs without a state table; this one has `{table}` \
                 (`SGGUARD_STATE_TABLE`): restore checks its revocation journal"
            ));
            return EXIT_ERROR;
        }
        (None, false) => {
            print_error(format!(
                "`{}`: nothing restored: restore checks each revocation against the hub's \
                 revocation journal, and no state table is set (`SGGUARD_STATE_TABLE`). Without \
                 one, check in the member's CloudTrail that the remediation role revoked each \
                 rule (docs/operations.md, \"Restoring a revoked rule\"), then run again with \
                 `--without-journal`",
                args.message
            ));
            return EXIT_ERROR;
        }
        _ => {}
    }
    runtime.block_on(async {
        let aws = match Aws::from_env(&args.role_name).await {
            Ok(aws) => aws,
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        };
        let revoked = match &settings.state_table {
            Some(table) => {
                match verify(&Journal::in_table(aws.state_table(table)), revoked).await {
                    Ok(verified) => verified,
                    Err(refusal) => {
                        print_error(format!("`{}`: nothing restored: {refusal}", args.message));
                        return EXIT_ERROR;
                    }
                }
            }
            None => revoked,
        };
        let mut failed = false;
        let mut restored = Vec::new();
        for (rule, result) in put_back(&*aws, &revoked).await {
            match result {
                Ok(new_id) => {
                    println!(
                        "restored {} in {} {} group {} as {}{}",
                        rule.rule_id(),
                        rule.account,
                        rule.region(),
                        rule.group(),
                        new_id.as_deref().unwrap_or("a new rule"),
                        rule.journaled
                            .as_deref()
                            .map(|told| format!(" ({told})"))
                            .unwrap_or_default()
                    );
                    restored.push(rule.clone());
                }
                Err(error) => {
                    failed = true;
                    print_error(format!("{} not restored: {error}", rule.rule_id()));
                }
            }
        }
        if let (Some(days), Some(uri), false) = (
            args.exempt_days,
            &settings.exemptions_uri,
            restored.is_empty(),
        ) {
            let until = jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .checked_add(jiff::Span::new().days(i64::from(days)))
                .unwrap_or(jiff::civil::Date::MAX);
            let object = S3Exemptions { aws: &aws, uri };
            // Validated as the hub will read it: a file that would not load is never written.
            let limits = crate::policy::FileLimits::today(settings.exemptions_max_days);
            let validate = |text: &str| {
                baseline
                    .with_exemptions_file(text, &uri.to_string(), &limits)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            };
            match write_exemption(&object, &restored, until, args.reason.as_deref(), validate).await
            {
                Ok(()) => println!("exemption written to {uri}, until {until}"),
                Err(error) => {
                    failed = true;
                    print_error(format!(
                        "the rules are back but not exempted ({error}): the hub revokes them \
                         again at their next event or sweep unless {uri} exempts them"
                    ));
                }
            }
        }
        if failed { EXIT_ERROR } else { EXIT_CLEAN }
    })
}

/// The exemptions file in S3, read with its entity tag and written only if unchanged.
struct S3Exemptions<'a> {
    aws: &'a Aws,
    uri: &'a S3Uri,
}

impl ExemptionsObject for S3Exemptions<'_> {
    async fn read(&self) -> Result<Option<Fetched>, String> {
        match self.aws.object_text(self.uri).await {
            Ok(fetched) => Ok(Some(fetched)),
            Err(error) if error.code_is("NoSuchKey") => Ok(None),
            Err(error) => Err(format!("cannot read the exemptions file: {error}")),
        }
    }

    async fn write_if(&self, text: &str, etag: Option<&str>) -> Result<bool, String> {
        self.aws
            .put_text_if(self.uri, text, etag, "sgguard restore")
            .await
            .map_err(|error| error.to_string())
    }
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
