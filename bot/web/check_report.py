"""`check --format text|json|github`: the problems found, as people and CI systems read them.

`github` writes GitHub Actions workflow commands (`::error file=…,line=…,col=…,title=…::msg`),
so each problem is an annotation on the pull request's line. Escaping follows GitHub's
runner: in the message `%`, CR and LF; in property values also `:` and `,`.
Nothing here prints: each function returns the text for cli.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One problem in any checked file; line and column 1-based, 0 when unknown."""

    path: str
    line: int
    column: int
    severity: str  # error | warning
    field: str
    message: str

    @classmethod
    def of(cls, problem: Any) -> Finding:
        """From a config problem (has `file` and `column`) or an article Problem."""
        if hasattr(problem, "file"):
            return cls(
                problem.file,
                problem.line,
                problem.column,
                problem.severity,
                problem.key,
                problem.message,
            )
        return cls(
            problem.path,
            problem.line,
            getattr(problem, "column", 0),
            problem.severity,
            problem.field,
            problem.message,
        )

    def text(self) -> str:
        field = f"{self.field}: " if self.field else ""
        if not self.line and self.path.startswith("environment variable "):
            return f"{self.severity}: {self.path}: {field}{self.message}"  # not in a file
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.severity}: {field}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
        }


def escape_data(value: str) -> str:
    """A workflow command's message (GitHub's escapeData)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value (GitHub's escapeProperty)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github_command(f: Finding) -> str:
    """`::error file=…,line=…,col=…,title=…::message` for one finding."""
    kind = "error" if f.severity == "error" else "warning"
    props = [f"file={escape_property(f.path)}"]
    if f.line:
        props.append(f"line={f.line}")
        if f.column:
            props.append(f"col={f.column}")
    title = f"herald: {f.field}" if f.field else "herald"
    props.append(f"title={escape_property(title)}")
    return f"::{kind} {','.join(props)}::{escape_data(f.message)}"


def summary(files: int, findings: Sequence[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    return (
        f"{files} file{'s' if files != 1 else ''} checked: "
        f"{errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}"
    )


def render(fmt: str, findings: Sequence[Finding], files: int) -> str:
    """The whole report in one format (text ends with the summary line)."""
    if fmt == "json":
        errors = sum(1 for f in findings if f.severity == "error")
        return json.dumps(
            {
                "files": files,
                "errors": errors,
                "warnings": len(findings) - errors,
                "problems": [f.to_dict() for f in findings],
            },
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "github":
        lines = [github_command(f) for f in findings]
        lines.append(summary(files, findings))
        return "\n".join(lines)
    return "\n".join([*(f.text() for f in findings), summary(files, findings)])
