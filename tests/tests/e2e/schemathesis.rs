//! schemathesis against the public API (docs/api/openapi.yaml) served by the local stack:
//! requests generated from the spec, valid and deliberately broken, each checked for a
//! documented answer (never a 5xx, a status the spec does not list, a body that does not
//! match its schema, or a hang). tests/schemathesis/hooks.py signs them as a store would,
//! so that most get past the signature to what reads the body; the answers it records
//! show they did.

use domain::audit::InboundState;
use end_to_end::ports::AuditTrail;
use end_to_end::Harness;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const API_STORE: &str = "schemathesis-store";
/// Test cases per phase (examples, coverage, fuzzing): a run takes under half a minute on
/// two cores.
const MAX_EXAMPLES: &str = "100";
const SEED: &str = "20261207";
/// Per request: the handler answers in milliseconds, so this is a hang.
const REQUEST_TIMEOUT_SECONDS: &str = "10";
/// The whole run, alone about 25 s; a run that outlives this is killed and fails the test. (A
/// hung request fails sooner, at its own timeout; this allows for `make test` running another
/// end-to-end test beside it on two cores.)
const RUN_TIMEOUT: Duration = Duration::from_secs(240);
/// What must hold for every response, in schemathesis's names. Not `negative_data_rejection`:
/// a signed body that breaks the schema is answered 200 and reviewed (docs/api/README.md),
/// and unknown topics and a malformed `X-Courier-Bridge-Sent-At` are accepted by design.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance,\
                      positive_data_acceptance,missing_required_header,unsupported_method";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_request_to_the_public_api_gets_a_documented_answer() {
    let workspace = Path::new(WORKSPACE)
        .canonicalize()
        .expect("the workspace root");
    let schemathesis = workspace.join(".venv/bin/schemathesis");
    assert!(
        schemathesis.is_file(),
        "{} is missing: `make test` installs it (infra/scripts/setup.sh \
         tests/schemathesis/requirements.txt)",
        schemathesis.display()
    );
    let h = Harness::start("schemathesis", &[]).await;
    let secret = format!("cb_{:x}", rand::random::<u64>());
    h.put_secret(
        &format!("api/{API_STORE}"),
        json!({ "signing_secret": secret }),
    )
    .await;

    // Its own directory: schemathesis keeps its cache there, and the hook the answers.
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(h.prefix.trim_end_matches('/'));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let answers_file = scratch.join("answers.jsonl");
    let mut command = tokio::process::Command::new(&schemathesis);
    command
        .current_dir(&scratch)
        .env(
            "SCHEMATHESIS_HOOKS",
            workspace.join("tests/schemathesis/hooks.py"),
        )
        .env("COURIER_BRIDGE_STORE", API_STORE)
        .env("COURIER_BRIDGE_SIGNING_SECRET", &secret)
        .env("COURIER_BRIDGE_ANSWERS", &answers_file)
        .arg("run")
        .arg(workspace.join("docs/api/openapi.yaml"))
        .args(["--url", &h.runtime.http_url])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--request-timeout", REQUEST_TIMEOUT_SECONDS])
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .arg("--no-color")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = format!("{:?}", command.as_std());
    let started = Instant::now();
    let output = tokio::time::timeout(RUN_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran over {RUN_TIMEOUT:?}: {shown}"))
        .expect("schemathesis starts");
    let elapsed = started.elapsed();
    let said = format!(
        "{shown}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Shown with the test's output: on a failure, and with --nocapture.
    println!("{said}");
    assert!(
        output.status.success(),
        "schemathesis failed ({}): its output is above",
        output.status
    );

    // What was sent and answered. Most requests were signed and accepted, so the hook signs
    // right and the bodies reached the stack; the unsigned ones, and only those, were
    // refused 401; some lacked a header and were refused 400.
    let answers = answers(&answers_file);
    let count = |status: u16, what: Option<&str>| {
        answers
            .iter()
            .filter(|a| a.status == status && what.is_none_or(|w| a.says() == Some(w)))
            .count()
    };
    let accepted = count(200, Some("accepted"));
    println!(
        "schemathesis: {} requests in {elapsed:.1?}: 200 {accepted} accepted, {} ignored, {} \
         needs_review; {} 400, {} 401, {} 404, {} 405",
        answers.len(),
        count(200, Some("ignored")),
        count(200, Some("needs_review")),
        count(400, None),
        count(401, None),
        count(404, None),
        count(405, None),
    );
    assert!(
        answers.len() >= 300,
        "a real run: {} requests",
        answers.len()
    );
    assert!(
        accepted * 2 > answers.len(),
        "most requests are signed and accepted: {accepted} of {}",
        answers.len()
    );
    assert!(
        count(401, None) > 0,
        "unsigned requests were sent and refused"
    );
    let connected = format!("/webhooks/api/{API_STORE}");
    for a in answers
        .iter()
        .filter(|a| a.method == "POST" && a.url.ends_with(&connected))
    {
        assert_eq!(
            a.status == 401,
            !a.signed,
            "401 exactly when the signature is wrong: {a:?}"
        );
    }
    assert!(
        count(400, Some("missing_topic_or_webhook_id")) > 0,
        "requests missing a header were sent and refused"
    );
    assert!(
        answers.iter().all(|a| a.status < 500),
        "no 5xx (schemathesis checked it too)"
    );

    // An accepted answer is the stack's word: the payload is kept and queued.
    let inbound_id = answers
        .iter()
        .find(|a| a.says() == Some("accepted"))
        .and_then(|a| a.answer["inbound_id"].as_str())
        .expect("an accepted answer names its inbound id");
    let record = h
        .stores()
        .inbound
        .get(inbound_id)
        .await
        .expect("the audit trail answers")
        .unwrap_or_else(|| panic!("{inbound_id} is kept"));
    assert_eq!(
        (record.channel.as_str(), record.store.as_str()),
        ("api", API_STORE)
    );
    assert_ne!(
        record.state,
        InboundState::Received,
        "queued, not left behind"
    );
    h.stop().await;
    // Kept when the test fails, for `st replay` from there.
    std::fs::remove_dir_all(&scratch).expect("the scratch directory removed");
}

/// One answer as the hook recorded it.
#[derive(Debug)]
struct Answer {
    method: String,
    url: String,
    status: u16,
    /// Whether the request carried the right signature of the bytes it sent.
    signed: bool,
    /// The answer's JSON body; `Null` when there is none.
    answer: Value,
}

impl Answer {
    /// The answer's `status`, or its `error`.
    fn says(&self) -> Option<&str> {
        self.answer["status"]
            .as_str()
            .or_else(|| self.answer["error"].as_str())
    }
}

fn answers(file: &Path) -> Vec<Answer> {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("the hook's answers {}: {e}", file.display()));
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            Answer {
                method: v["method"].as_str().unwrap_or_default().to_owned(),
                url: v["url"].as_str().unwrap_or_default().to_owned(),
                status: v["status"]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .expect("a status"),
                signed: v["signed"].as_bool().expect("signed or not"),
                answer: v["answer"].clone(),
            }
        })
        .collect()
}
