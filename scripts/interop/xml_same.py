#!/usr/bin/env python3
"""Exit 0 when two SyncML XML documents mean the same, 1 (with the first difference on
stderr) when they do not.

Independent of omadm's own decoder: it uses Python's ElementTree. White space between
elements, namespace prefixes, xmlns declarations and attribute order are ignored; text is
compared after stripping surrounding white space and normalising CRLF to LF (libwbxml turns
LF into CRLF in Data). Anything before <SyncML (XML declaration, DOCTYPE) is skipped.
"""
import sys
import xml.etree.ElementTree as ET


def norm(e):
    tag = e.tag.split('}')[-1]
    text = (e.text or '').replace('\r\n', '\n').strip()
    attrs = sorted((k.split('}')[-1], v) for k, v in e.attrib.items() if not k.startswith('xmlns'))
    return (tag, text, attrs, [norm(c) for c in e])


def load(path):
    data = open(path, 'rb').read()
    i = data.find(b'<SyncML')
    if i < 0:
        i = data.find(b'<')
    return ET.fromstring(data[i:])


def first_difference(a, b, path=''):
    here = f'{path}/{a[0]}'
    if a[:3] != b[:3]:
        return f'{here}: {a[:3]!r} != {b[:3]!r}'
    if len(a[3]) != len(b[3]):
        return f'{here}: {len(a[3])} children != {len(b[3])}'
    for x, y in zip(a[3], b[3]):
        d = first_difference(x, y, here)
        if d:
            return d
    return None


a, b = norm(load(sys.argv[1])), norm(load(sys.argv[2]))
diff = first_difference(a, b)
if diff:
    print('documents differ: ' + diff, file=sys.stderr)
    sys.exit(1)
