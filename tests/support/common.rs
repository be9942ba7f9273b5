//! Helpers shared by both integration-test binaries (`tests/offline/`, `tests/emulator/`): where
//! the fixtures are.

use std::path::PathBuf;

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(name: &str) -> String {
    fixture_dir().join(name).display().to_string()
}
