//! Property tests: model → XML → model and model → WBXML → model are the identity, and
//! XML → WBXML → XML keeps the meaning.

use omadm_syncml::{
    wbxml, xml, Alert, Chal, Command, Container, Cred, Data, DmVersion, Exec, Item, ItemCommand,
    Limits, Location, Meta, MoreMeta, Results, Status, SyncBody, SyncHdr, SyncMl,
};
use proptest::prelude::*;
use std::borrow::Cow;

/// Text XML can carry: printable ASCII with markup characters, some non-ASCII, tabs and
/// line breaks (CR included: the writer escapes it).
fn text() -> impl Strategy<Value = Cow<'static, str>> {
    prop::string::string_regex(
        "[a-zA-Z0-9 ./:&<>\"'=?%_-]{0,12}|[\u{e9}\u{4e2d}\u{1F600}\t\r\n ]{1,4}",
    )
    .unwrap()
    .prop_map(Cow::Owned)
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

fn opt_box<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<Box<T>>> {
    prop::option::of(s.prop_map(Box::new)).boxed()
}

fn location() -> impl Strategy<Value = Location<'static>> {
    (text(), opt(text())).prop_map(|(loc_uri, loc_name)| Location {
        loc_uri,
        loc_name: loc_name.map(Box::new),
    })
}

fn meta() -> impl Strategy<Value = Meta<'static>> {
    (
        (
            opt(prop_oneof![
                Just(Cow::Borrowed("chr")),
                Just(Cow::Borrowed("int")),
                Just(Cow::Borrowed("b64")),
                text()
            ]),
            opt(text()),
            opt(text()),
        ),
        (opt(any::<u64>()), opt(text()), opt(text())),
        (
            opt(any::<u64>()),
            opt(any::<u64>()),
            prop::collection::vec(text(), 0..2),
        ),
    )
        .prop_map(
            |(
                (format, type_, mark),
                (size, next_nonce, version),
                (max_msg_size, max_obj_size, emi),
            )| {
                let more = MoreMeta {
                    mark,
                    size,
                    next_nonce,
                    version,
                    max_msg_size,
                    max_obj_size,
                    emi,
                };
                // A decoder makes the box only for an element it holds.
                Meta {
                    format: format.filter(|f| f != "xml"),
                    type_,
                    more: (!more.is_empty()).then(|| Box::new(more)),
                }
            },
        )
}

/// Data and the Meta it needs: markup only under Format xml; raw octets only in WBXML.
fn data_item(with_opaque: bool) -> BoxedStrategy<(Option<Data<'static>>, Option<Meta<'static>>)> {
    let markup = ("[a-z]{1,5}", "([a-z ]|&amp;|<b/>){0,6}")
        .prop_map(|(name, content)| format!("<{name}>{content}</{name}>"));
    let mut choices = vec![
        (opt(meta()), opt(text().prop_map(Data::Text))).boxed(),
        (
            opt(meta()),
            prop::string::string_regex("<[a-z]{1,5}/>").unwrap(),
        )
            .prop_map(|(m, x)| {
                let mut m = m.unwrap_or_default();
                m.format = Some("xml".into());
                (Some(m), Some(Data::Xml(x.into())))
            })
            .boxed(),
        (opt(meta()), markup)
            .prop_map(|(m, x)| {
                let mut m = m.unwrap_or_default();
                m.format = Some("xml".into());
                (Some(m), Some(Data::Xml(x.into())))
            })
            .boxed(),
    ];
    if with_opaque {
        choices.push(
            (opt(meta()), prop::collection::vec(any::<u8>(), 0..16))
                .prop_map(|(m, b)| (m, Some(Data::Opaque(b.into()))))
                .boxed(),
        );
    }
    prop::strategy::Union::new(choices)
        .prop_map(|(meta, data)| (data, meta))
        .boxed()
}

fn item(with_opaque: bool) -> BoxedStrategy<Item<'static>> {
    (
        opt(location()),
        opt(location()),
        opt(location()),
        opt(location()),
        data_item(with_opaque),
        any::<bool>(),
    )
        .prop_map(
            |(target, source, source_parent, target_parent, (data, meta), more_data)| Item {
                target,
                source,
                source_parent: source_parent.map(Box::new),
                target_parent: target_parent.map(Box::new),
                meta,
                data,
                more_data,
            },
        )
        .boxed()
}

fn cred() -> impl Strategy<Value = Cred<'static>> {
    (opt(meta()), text()).prop_map(|(meta, data)| Cred { meta, data })
}

fn leaf_command(with_opaque: bool) -> BoxedStrategy<Command<'static>> {
    let items = move |min| prop::collection::vec(item(with_opaque), min..3);
    // Command-level Meta never says xml: items decide their own Format.
    let item_command = (
        text(),
        any::<bool>(),
        opt_box(cred()),
        opt_box(meta()),
        items(1),
    )
        .prop_map(|(cmd_id, no_resp, cred, meta, items)| ItemCommand {
            cmd_id,
            no_resp,
            cred,
            meta,
            items: items.into(),
        });
    prop_oneof![
        (0..5u8, item_command).prop_map(|(kind, c)| match kind {
            0 => Command::Add(c),
            1 => Command::Copy(c),
            2 => Command::Delete(c),
            3 => Command::Get(c),
            _ => Command::Replace(c),
        }),
        (
            text(),
            any::<bool>(),
            opt_box(cred()),
            opt(text()),
            opt(text()),
            items(0)
        )
            .prop_map(
                |(cmd_id, no_resp, cred, data, correlator, items)| Command::Alert(Alert {
                    cmd_id,
                    no_resp,
                    cred,
                    data,
                    correlator,
                    items
                })
            ),
        (
            text(),
            any::<bool>(),
            opt_box(cred()),
            opt_box(meta()),
            opt(text()),
            items(1)
        )
            .prop_map(
                |(cmd_id, no_resp, cred, meta, correlator, items)| Command::Exec(Exec {
                    cmd_id,
                    no_resp,
                    cred,
                    meta,
                    correlator,
                    items
                })
            ),
        (
            (text(), text(), text(), text()),
            (
                prop::collection::vec(text(), 0..2),
                prop::collection::vec(text(), 0..2)
            ),
            (
                opt_box(cred()),
                opt_box(meta().prop_map(|meta| Chal { meta })),
                text(),
                items(0)
            ),
        )
            .prop_map(
                |(
                    (cmd_id, msg_ref, cmd_ref, cmd),
                    (target_refs, source_refs),
                    (cred, chal, data, items),
                )| {
                    Command::Status(Status {
                        cmd_id,
                        msg_ref,
                        cmd_ref,
                        cmd,
                        target_refs: target_refs.into(),
                        source_refs: source_refs.into(),
                        cred,
                        chal,
                        data,
                        items,
                    })
                }
            ),
        (
            text(),
            opt(text()),
            text(),
            opt_box(meta()),
            opt(text()),
            opt(text()),
            items(0)
        )
            .prop_map(
                |(cmd_id, msg_ref, cmd_ref, meta, target_ref, source_ref, items)| {
                    Command::Results(Results {
                        cmd_id,
                        msg_ref,
                        cmd_ref,
                        meta,
                        target_ref,
                        source_ref,
                        items,
                    })
                }
            ),
    ]
    .boxed()
}

fn command(with_opaque: bool) -> BoxedStrategy<Command<'static>> {
    leaf_command(with_opaque)
        .prop_recursive(2, 8, 3, move |inner| {
            (
                any::<bool>(),
                text(),
                any::<bool>(),
                opt_box(meta()),
                prop::collection::vec(inner, 0..3),
            )
                .prop_map(|(atomic, cmd_id, no_resp, meta, commands)| {
                    let c = Container {
                        cmd_id,
                        no_resp,
                        meta,
                        commands,
                    };
                    if atomic {
                        Command::Atomic(c)
                    } else {
                        Command::Sequence(c)
                    }
                })
        })
        .boxed()
}

fn message(with_opaque: bool) -> impl Strategy<Value = SyncMl<'static>> {
    (
        prop_oneof![Just(DmVersion::V1_1), Just(DmVersion::V1_2)],
        (text(), text(), location(), location()),
        (opt(text()), any::<bool>(), opt(cred()), opt(meta())),
        prop::collection::vec(command(with_opaque), 0..5),
        any::<bool>(),
    )
        .prop_map(
            |(
                version,
                (session, msg_id, target, source),
                (resp_uri, no_resp, cred, meta),
                commands,
                is_final,
            )| {
                let mut header = SyncHdr::new(version, session, msg_id, target, source);
                header.resp_uri = resp_uri;
                header.no_resp = no_resp;
                header.cred = cred;
                header.meta = meta;
                SyncMl {
                    header,
                    body: SyncBody { commands, is_final },
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn model_to_xml_to_model_is_identity(msg in message(false)) {
        let bytes = xml::encode(&msg);
        let again = xml::decode(&bytes, &Limits::default()).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes)))
        })?;
        prop_assert_eq!(again, msg);
    }

    #[test]
    fn model_to_wbxml_to_model_is_identity(msg in message(true)) {
        let bytes = wbxml::encode(&msg);
        let again = wbxml::decode(&bytes, &Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, msg);
    }

    #[test]
    fn xml_to_wbxml_to_xml_keeps_meaning(msg in message(false)) {
        let first = xml::encode(&msg);
        let via = wbxml::encode(&xml::decode(&first, &Limits::default()).unwrap());
        let mut back = wbxml::decode(&via, &Limits::default()).unwrap();
        back.to_xml_safe();
        prop_assert_eq!(String::from_utf8(xml::encode(&back)).unwrap(), String::from_utf8(first).unwrap());
    }

    #[test]
    fn arbitrary_bytes_never_panic_either_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = xml::decode_lenient(&bytes, &Limits::default());
        let _ = wbxml::decode_lenient(&bytes, &Limits::default());
        let mut wb = vec![0x02, 0xA4, 0x01, 0x6A, 0x00];
        wb.extend_from_slice(&bytes);
        let _ = wbxml::decode_lenient(&wb, &Limits::default());
    }
}
