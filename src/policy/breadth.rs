//! The exemptions file's own rules. That file (`SGGUARD_EXEMPTIONS_URI`) changes without a new
//! build or a review of the baseline, so it is held to more than the baseline's exemptions: every
//! entry expires within a maximum number of days, and an entry that exempts a whole account or
//! every baseline rule is taken only when the file says it means it (`acknowledge:`).

use jiff::civil::Date;
use serde::Deserialize;

/// An exemption wider than some rules of some groups; its name is the file's `acknowledge:`
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Breadth {
    /// Every group of the accounts it names (`account_ids`).
    AccountWide,
    /// Every rule of the baseline (no `rules`).
    AllRules,
}

impl Breadth {
    /// What such an exemption covers, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Breadth::AccountWide => "every group of an account (`account_ids`)",
            Breadth::AllRules => "every rule of the baseline (no `rules`)",
        }
    }
}

/// `SGGUARD_EXEMPTIONS_MAX_DAYS` when unset.
pub const DEFAULT_MAX_DAYS: u16 = 365;
/// The most `SGGUARD_EXEMPTIONS_MAX_DAYS` may be (ten years).
pub const MOST_MAX_DAYS: u16 = 3650;

/// What an exemptions file is held to on the day it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// How many days ahead an entry's `expires` may be.
    pub max_days: u16,
    /// The day (UTC) the file is read.
    pub today: Date,
}

impl FileLimits {
    /// The limits of a file read now (today in UTC).
    pub fn today(max_days: u16) -> FileLimits {
        FileLimits {
            max_days,
            today: jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date(),
        }
    }

    /// The last day an entry may name in `expires`.
    pub fn latest_expiry(&self) -> Date {
        self.today
            .checked_add(jiff::Span::new().days(i64::from(self.max_days)))
            .unwrap_or(Date::MAX)
    }
}

impl Default for FileLimits {
    fn default() -> FileLimits {
        FileLimits::today(DEFAULT_MAX_DAYS)
    }
}
