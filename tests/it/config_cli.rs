//! The binary: configuration errors and the account commands.

use std::process::{Command, Stdio};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_culturecnous"))
}

#[test]
fn invalid_configuration_exits_2_naming_the_key() {
    let out = binary()
        .arg("migrate")
        .env("CULTURECNOUS__INSTANCE__LANGUAGE", "klingon")
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("instance.language"), "{stderr}");
    assert!(stderr.contains("klingon"), "{stderr}");

    let out = binary()
        .arg("serve")
        .env("CULTURECNOUS__STORAGE__MAX_UPLOAD_MB", "beaucoup")
        .stdin(Stdio::null())
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("storage.max_upload_mb"), "{stderr}");
}
