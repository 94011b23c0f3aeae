"""Independent DSSE check: rebuild the PAE bytes from the envelope and verify
the signature with the `cryptography` package.

usage: python3 verify_dsse.py ENVELOPE PUBLIC_KEY(.pub, OpenSSH form)
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

envelope = json.load(open(sys.argv[1]))
key = load_ssh_public_key(open(sys.argv[2], "rb").read())
payload = base64.b64decode(envelope["payload"])
payload_type = envelope["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)
signature = base64.b64decode(envelope["signatures"][0]["sig"])
if isinstance(key, ed25519.Ed25519PublicKey):
    key.verify(signature, pae)
elif isinstance(key, ec.EllipticCurvePublicKey):
    key.verify(signature, pae, ec.ECDSA(hashes.SHA256()))
else:
    sys.exit("unexpected key type")
print("verified", envelope["payloadType"])
