//! The text form a package is stored in: `key=value` lines, with `%`, CR and LF escaped.
//! Decoding is total: a damaged record gives `None`, never a panic.

use super::store::Package;
use super::{FumoState, Job, Operation};

fn escape(v: &str) -> String {
    v.replace('%', "%25")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

fn unescape(v: &str) -> String {
    v.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

/// The record of `p`.
pub(crate) fn encode(p: &Package) -> String {
    let mut out = String::new();
    let mut put = |k: &str, v: &str| {
        out.push_str(k);
        out.push('=');
        out.push_str(&escape(v));
        out.push('\n');
    };
    if let Some(n) = &p.pkg_name {
        put("name", n);
    }
    if let Some(v) = &p.pkg_version {
        put("version", v);
    }
    if let Some(u) = &p.download_url {
        put("download_url", u);
    }
    if let Some(u) = &p.dlu_url {
        put("dlu_url", u);
    }
    if let Some(d) = &p.digest {
        put("digest", d);
    }
    put("state", &p.state.code().to_string());
    if let Some(j) = &p.job {
        put("job", j.operation.node());
        if let Some(c) = &j.correlator {
            put("correlator", c);
        }
        put("server", &j.server_id);
        put("source", &j.source);
        put("confirmed", if j.confirmed { "1" } else { "0" });
        put("install_started", if j.install_started { "1" } else { "0" });
        if let Some(r) = j.result {
            put("result", &r.to_string());
        }
    }
    out
}

/// The package `id` from its record.
pub(crate) fn decode(id: &str, text: &str) -> Option<Package> {
    let mut p = Package::new(id);
    let mut job: Option<Job> = None;
    for line in text.lines() {
        let (k, v) = line.split_once('=')?;
        let v = unescape(v);
        match k {
            "name" => p.pkg_name = Some(v),
            "version" => p.pkg_version = Some(v),
            "download_url" => p.download_url = Some(v),
            "dlu_url" => p.dlu_url = Some(v),
            "digest" => p.digest = Some(v),
            "state" => p.state = FumoState::from_code(v.parse().ok()?)?,
            "job" => {
                job = Some(Job {
                    operation: Operation::from_node(&v)?,
                    correlator: None,
                    server_id: String::new(),
                    source: String::new(),
                    confirmed: false,
                    install_started: false,
                    result: None,
                })
            }
            "correlator" => job.as_mut()?.correlator = Some(v),
            "server" => job.as_mut()?.server_id = v,
            "source" => job.as_mut()?.source = v,
            "confirmed" => job.as_mut()?.confirmed = v == "1",
            "install_started" => job.as_mut()?.install_started = v == "1",
            "result" => job.as_mut()?.result = Some(v.parse().ok()?),
            _ => {}
        }
    }
    p.job = job;
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_with_a_job_round_trips_with_awkward_text() {
        let mut p = Package::new("pkg");
        p.pkg_name = Some("a=b%c\nd".into());
        p.dlu_url = Some("https://h/fw?x=1".into());
        p.state = FumoState::UpdateProgressing;
        p.job = Some(Job {
            operation: Operation::DownloadAndUpdate,
            correlator: Some("c-1".into()),
            server_id: "srv".into(),
            source: "./FwUpdate/pkg/DownloadAndUpdate".into(),
            confirmed: true,
            install_started: true,
            result: Some(200),
        });
        assert_eq!(decode("pkg", &encode(&p)), Some(p));
    }

    proptest::proptest! {
        /// Any stored text decodes to a package or to `None`, never a panic.
        #[test]
        fn any_text_decodes_or_is_refused(text in ".{0,400}") {
            let _ = decode("x", &text);
        }

        /// Lines with real keys and any values (the damage a torn write could leave).
        #[test]
        fn real_keys_with_any_values_decode_or_are_refused(
            lines in proptest::collection::vec(
                ("(name|version|download_url|dlu_url|digest|state|job|correlator|server|source|confirmed|install_started|result)", "[^\n]{0,20}"),
                0..16,
            )
        ) {
            let text: String = lines.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            let _ = decode("x", &text);
        }
    }

    #[test]
    fn damaged_records_give_none() {
        assert_eq!(decode("x", "state=77\n"), None);
        assert_eq!(
            decode("x", "correlator=c\n"),
            None,
            "job field without a job"
        );
        assert_eq!(decode("x", "no equals sign"), None);
    }
}
