# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's certificate authority: one CA and server certificates signed by it, written as PEM files.

Lab-only material: keys are written unencrypted (mode 0600) and live as long as the lab's state directory.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LAB_SERVER_NAMES = (
    "127.0.0.1",
    "localhost",
    "az-service",
    "az-service.kfuse",
    "az-service.kfuse.svc",
    "az-service.kfuse.svc.cluster.local",
)

# What clients in and out of a cluster call the API server: the in-cluster names and the first Service IP.
KUBERNETES_SERVER_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "10.96.0.1",
)

_VALIDITY = datetime.timedelta(days=30)
# Backdated so clocks that differ by a little do not reject a certificate made a second ago.
_BACKDATE = datetime.timedelta(hours=1)


def _write(path, data, mode):
    tmp = path + ".part"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _subject_alt_names(names):
    entries = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def create_ca(directory, common_name="kfuse lab CA"):
    """Write ca.pem and ca-key.pem into directory; return (cert_path, key_path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    os.makedirs(directory, exist_ok=True)
    cert_path = os.path.join(directory, "ca.pem")
    key_path = os.path.join(directory, "ca-key.pem")
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path, key_path


def _load_ca(ca_cert_path, ca_key_path):
    with open(ca_cert_path, "rb") as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    with open(ca_key_path, "rb") as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), password=None)
    return ca_cert, ca_key


def _issue(directory, ca_cert_path, ca_key_path, subject, usage, basename, names=None):
    """Write <basename>.pem and <basename>-key.pem, a leaf signed by the CA; return (cert_path, key_path)."""
    ca_cert, ca_key = _load_ca(ca_cert_path, ca_key_path)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if names:
        builder = builder.add_extension(_subject_alt_names(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    os.makedirs(directory, exist_ok=True)
    cert_path = os.path.join(directory, basename + ".pem")
    key_path = os.path.join(directory, basename + "-key.pem")
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path, key_path


def create_server_cert(directory, ca_cert_path, ca_key_path, names=LAB_SERVER_NAMES, basename="server"):
    """A serving certificate for ``names`` (IPs and DNS names); return (cert_path, key_path)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    return _issue(directory, ca_cert_path, ca_key_path, subject, ExtendedKeyUsageOID.SERVER_AUTH, basename, names)


def create_client_cert(directory, ca_cert_path, ca_key_path, common_name, organizations=(), basename="client"):
    """A client certificate: Kubernetes reads the user from CN and the groups from O; return (cert_path, key_path)."""
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    subject = x509.Name(attributes + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return _issue(directory, ca_cert_path, ca_key_path, subject, ExtendedKeyUsageOID.CLIENT_AUTH, basename)


def create_signing_key(directory, basename):
    """A key pair without a certificate (the API server signs ServiceAccount tokens with the private half and
    verifies them with the public one); return (private_path, public_path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    os.makedirs(directory, exist_ok=True)
    private_path = os.path.join(directory, basename + ".pem")
    public_path = os.path.join(directory, basename + ".pub")
    _write(private_path, _key_pem(key), 0o600)
    _write(public_path, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return private_path, public_path


def create_lab_pki(directory, names=LAB_SERVER_NAMES):
    """CA plus one server certificate for every lab listener; return a dict of the four paths."""
    ca_cert, ca_key = create_ca(directory)
    server_cert, server_key = create_server_cert(directory, ca_cert, ca_key, names)
    return {"ca": ca_cert, "ca_key": ca_key, "server_cert": server_cert, "server_key": server_key}
