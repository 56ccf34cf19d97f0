//! Streaming downloads with `Range`: whole file, resumed after a cut, a server that ignores
//! ranges, chunked bodies, an offset past the end, and a truncated body reported as an error.

use std::io::{Read, Write};
use std::net::TcpListener;

use omadm_transport::{Client, ClientConfig};

#[derive(Clone, Copy)]
enum Mode {
    /// Honour Range; cut the connection after this many body bytes (None: never).
    Ranges(Option<usize>),
    /// Ignore Range, always 200 with the whole file.
    IgnoreRanges,
    /// 200, chunked, whole file.
    Chunked,
}

fn file() -> Vec<u8> {
    (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// Serves `file()` on plain HTTP for `requests` requests; returns the URL.
fn serve(mode: Mode, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let data = file();
        for stream in listener.incoming().take(requests) {
            let mut s = stream.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if s.read(&mut byte).unwrap() == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let start: Option<usize> = head
                .lines()
                .find_map(|l| l.strip_prefix("range: bytes="))
                .map(|r| r.trim().trim_end_matches('-').parse().unwrap());
            match mode {
                Mode::Ranges(cut) => {
                    let start = start.unwrap_or(0);
                    if start >= data.len() {
                        write!(s, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\n\r\n", data.len()).unwrap();
                        continue;
                    }
                    let body = &data[start..];
                    if start > 0 {
                        write!(s, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{}\r\nContent-Length: {}\r\n\r\n", data.len() - 1, data.len(), body.len()).unwrap();
                    } else {
                        write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        )
                        .unwrap();
                    }
                    let n = cut.map_or(body.len(), |c| c.min(body.len()));
                    let _ = s.write_all(&body[..n]);
                }
                Mode::IgnoreRanges => {
                    write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                        data.len()
                    )
                    .unwrap();
                    s.write_all(&data).unwrap();
                }
                Mode::Chunked => {
                    write!(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
                    for c in data.chunks(30_000) {
                        write!(s, "{:x};ext=1\r\n", c.len()).unwrap();
                        s.write_all(c).unwrap();
                        s.write_all(b"\r\n").unwrap();
                    }
                    s.write_all(b"0\r\n\r\n").unwrap();
                }
            }
        }
    });
    format!("http://127.0.0.1:{port}/fw/image.bin")
}

fn client() -> Client {
    Client::new(ClientConfig {
        allow_plain_http: true,
        system_store: false,
        ..ClientConfig::default()
    })
    .unwrap()
}

fn read_all(
    client: &mut Client,
    url: &str,
    offset: u64,
) -> (u16, u64, Option<u64>, std::io::Result<Vec<u8>>) {
    let mut d = client.download(url, offset).unwrap();
    let mut out = Vec::new();
    let r = d.body.read_to_end(&mut out).map(|_| out);
    (d.status, d.offset, d.total, r)
}

#[test]
fn a_whole_file_streams_with_its_size() {
    let url = serve(Mode::Ranges(None), 1);
    let (status, offset, total, body) = read_all(&mut client(), &url, 0);
    assert_eq!((status, offset, total), (200, 0, Some(100_000)));
    assert_eq!(body.unwrap(), file());
}

#[test]
fn a_cut_transfer_is_an_error_and_resumes_with_range() {
    let url = serve(Mode::Ranges(Some(40_000)), 1);
    let mut c = client();
    let mut d = c.download(&url, 0).unwrap();
    let mut got = Vec::new();
    let err = d.body.read_to_end(&mut got).unwrap_err();
    assert_eq!(
        err.kind(),
        std::io::ErrorKind::UnexpectedEof,
        "never mistaken for complete"
    );
    assert_eq!(got.len(), 40_000);
    drop(d);
    let url2 = serve(Mode::Ranges(None), 1);
    let (status, offset, total, rest) = read_all(&mut c, &url2, got.len() as u64);
    assert_eq!((status, offset, total), (206, 40_000, Some(100_000)));
    got.extend(rest.unwrap());
    assert_eq!(got, file());
}

#[test]
fn a_server_that_ignores_ranges_sends_everything_from_zero() {
    let url = serve(Mode::IgnoreRanges, 1);
    let (status, offset, _, body) = read_all(&mut client(), &url, 500);
    assert_eq!((status, offset), (200, 0), "the caller must start over");
    assert_eq!(body.unwrap().len(), 100_000);
}

#[test]
fn chunked_bodies_stream() {
    let url = serve(Mode::Chunked, 1);
    let (status, _, total, body) = read_all(&mut client(), &url, 0);
    assert_eq!((status, total), (200, None));
    assert_eq!(body.unwrap(), file());
}

#[test]
fn an_offset_past_the_end_is_416_with_the_size() {
    let url = serve(Mode::Ranges(None), 1);
    let (status, _, total, body) = read_all(&mut client(), &url, 100_000);
    assert_eq!((status, total), (416, Some(100_000)));
    assert!(body.unwrap().is_empty());
}

#[test]
fn plain_http_downloads_are_refused_when_ssl_is_enforced() {
    let mut c = Client::new(ClientConfig {
        system_store: false,
        ..ClientConfig::default()
    })
    .unwrap();
    assert!(c.download("http://127.0.0.1:9/x", 0).is_err());
}
