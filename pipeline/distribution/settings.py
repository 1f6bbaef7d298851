"""Mail settings and recipients from crm.toml (checked at load); the password only from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from schemas.labels import BRANCH_ROLE, MAIL_DEFAULT_KINDS, MAIL_ROLE_ALIASES

from ..config import Config, mail_kinds
from ..errors import ConfigError

PASSWORD_VARIABLE = "CRM_SMTP_PASSWORD"


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str
    role: str
    branch: str | None
    kinds: tuple[str, ...]

    @property
    def shown(self) -> str:
        return f"{self.name} <{self.address}>"

    def matches(self, text: str) -> bool:
        """Whether ``text`` names this recipient (its name, address or branch)."""
        text = text.strip().lower()
        return text in (self.name.lower(), self.address.lower(), (self.branch or "").lower())


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    username: str
    sender: str
    sender_name: str
    max_bytes: int
    timeout: float
    ca_file: str

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1] if "@" in self.sender else "localhost"

    def password(self) -> str | None:
        """The SMTP password, read from the environment when it is needed (never stored or shown)."""
        return os.environ.get(PASSWORD_VARIABLE) or None

    def require_server(self, where: str) -> None:
        """Refuse to send without a server, a sender and (when a user name is set) the password."""
        missing = [key for key, value in (("host", self.host), ("from", self.sender)) if not value.strip()]
        if missing:
            what = {"host": "host（邮件服务器地址）", "from": "from（发件人地址）"}
            raise ConfigError(f"要发送邮件，请先在 {where} 的 [mail] 中填写 {'、'.join(what[k] for k in missing)}。"
                              "不加 --send 可先演练。")
        if self.username and not self.password():
            raise ConfigError(f"[mail] 设置了用户名 {self.username}，但环境变量 {PASSWORD_VARIABLE} 中没有密码。"
                              f"请先设置（Windows 命令提示符：set {PASSWORD_VARIABLE}=密码，等号两边不留空格；"
                              f"PowerShell：$env:{PASSWORD_VARIABLE}=\"密码\"；Linux/macOS：export "
                              f"{PASSWORD_VARIABLE}=密码），密码不要写进 crm.toml。")


def mail_settings(config: Config) -> MailSettings:
    mail = config.section("mail")
    return MailSettings(mail["host"].strip(), int(mail["port"]), mail["security"], mail["username"].strip(),
                        mail["from"].strip(), mail["from_name"].strip(), int(mail["max_message_mib"] * 1024 * 1024),
                        float(mail["timeout_seconds"]), _beside(config, mail["ca_file"].strip()))


def _beside(config: Config, path: str) -> str:
    """A path in crm.toml, relative to the folder crm.toml is in (not to wherever crm was started)."""
    if any(ord(ch) < 32 for ch in path):  # "D:\temp\new.pem" in double quotes: \t and \n became a tab, a new line
        raise ConfigError(f"{config.path or 'crm.toml'} 中 [mail] ca_file 的路径含有被双引号当作转义的反斜杠"
                          "（如 \\t、\\n）。Windows 路径请改用单引号，如 ca_file = 'D:\\temp\\new.pem'，或把 \\ 写成 /。")
    if not path or Path(path).is_absolute() or config.path is None:
        return path
    return str(Path(config.path).parent / path)


def recipients(config: Config) -> list[Recipient]:
    """The configured recipients, kinds defaulted by role."""
    out = []
    for entry in config.section("mail").get("recipients") or []:
        role = MAIL_ROLE_ALIASES.get(entry["role"], entry["role"])
        kinds = mail_kinds(entry["kinds"]) if entry.get("kinds") is not None else MAIL_DEFAULT_KINDS[role]
        out.append(Recipient(entry["name"].strip(), entry["address"].strip(), role,
                             entry.get("branch") if role == BRANCH_ROLE else None, tuple(dict.fromkeys(kinds))))
    return out
