#!/usr/bin/env python3
"""Decodes a GSM SMS-DELIVER TPDU (raw bytes in a file) with the independent PyPI decoder
smspdudecoder and prints JSON: sender, UDH elements, payload hex.

Needs: pip install smspdudecoder "bitstring<4"."""
import json
import sys
from io import StringIO

from smspdudecoder.fields import SMSDeliver

pdu = open(sys.argv[1], 'rb').read().hex()
decoded = SMSDeliver.decode(StringIO('00' + pdu))  # '00': no SMSC address before the TPDU
user_data = decoded.get('user_data') or {}
header = user_data.get('header') or {}
data = user_data.get('data')
print(json.dumps({
    'mti': decoded['header']['mti'],
    'sender': decoded['sender']['number'],
    'udh': header.get('elements', []),
    'payload_hex': data.hex() if isinstance(data, bytes) else data,
}, default=str))
