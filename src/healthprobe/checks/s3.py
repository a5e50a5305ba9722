"""S3-compatible object storage: ``HeadBucket`` over a kept boto3 client.

AWS S3, MinIO, Ceph RGW, Cloudflare R2, Backblaze B2, SeaweedFS, Garage:
anything that speaks the S3 API.  ``HeadBucket`` is the cheapest request
that proves the endpoint answers, the credentials are accepted and the
bucket exists (no object is read or written):

* 200 passes;
* 404 fails ("no such bucket"), 403 fails ("access denied"), any other
  answer or a transport error fails with its reason.

The check makes one boto3 client on its first run and keeps it (its
connection pool reconnects after a failure); a client you pass is used as it
is.  botocore's DEBUG log lines of the check's client are scrubbed of its
secrets.  boto3 is synchronous: the engine runs the check in a worker thread.
``timeout`` is the client's connect and read timeout, and botocore's retries
are off (the next probe is the retry), so a server that accepts and never
answers fails at the timeout.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._levels import timeout_option
from ._log_redact import RedactSecrets, redact_loggers, remove_redaction

__all__ = ["S3BucketCheck"]

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class S3BucketCheck:
    """``HeadBucket`` on ``bucket`` (see the module doc for what passes).

    ``endpoint_url`` is the S3-compatible server (``None``: AWS, from
    ``region``).  Without ``access_key_id``/``secret_access_key`` boto3's own
    chain (environment, config files, instance role) supplies credentials.
    The secret key, the session token and a non-loopback endpoint host are
    declared as secrets.  ``client`` is your own boto3 S3 client.  On AWS
    the credentials need ``s3:ListBucket`` on the bucket (what grants
    ``HeadBucket``), nothing more.
    """

    component_type = "datastore"

    def __init__(
        self,
        bucket: str,
        *,
        name: str = "s3",
        timeout: float = 5.0,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        client: Any = None,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        if not isinstance(bucket, str) or not bucket:
            raise ConfigurationError(f"check {name!r}: bucket must be a bucket name")
        self.bucket = bucket
        if (access_key_id is None) != (secret_access_key is None):
            raise ConfigurationError(
                f"check {name!r}: pass both access_key_id and secret_access_key, or neither"
            )
        if endpoint_url is not None:
            parts = urllib.parse.urlsplit(endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigurationError(
                    f"check {name!r}: endpoint_url must be an http:// or https:// URL"
                )
        self._boto3 = require("boto3", "s3", package="boto3") if client is None else None
        self._botocore_config = require("botocore.config", "s3", package="boto3")
        self._options: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "aws_session_token": session_token,
        }
        self._client = client
        self._lock = threading.Lock()
        self._redact: RedactSecrets | None = None
        secrets = [s for s in (secret_access_key, session_token) if s]
        host = urllib.parse.urlsplit(endpoint_url).hostname if endpoint_url else None
        if host and host not in _LOOPBACK:
            secrets += [host, endpoint_url or ""]
        # Declared to the engine, which scrubs them from every output.
        self.secrets = tuple(dict.fromkeys(secrets))

    def __repr__(self) -> str:
        # Never the endpoint or keys: a repr ends up in logs.
        return f"<S3BucketCheck {self.name!r} bucket {self.bucket!r}>"

    def check(self) -> CheckResult:
        """One ``HeadBucket``; a transport error raises (= fail, sanitized by the engine)."""
        client = self._kept_client()
        details: dict[str, Any] = {"bucket": self.bucket}
        exceptions = require("botocore.exceptions", "s3", package="boto3")
        try:
            reply = client.head_bucket(Bucket=self.bucket)
        except exceptions.ClientError as exc:
            return _client_error(exc, details)
        meta = reply.get("ResponseMetadata") or {}
        details["http_status"] = meta.get("HTTPStatusCode")
        region = (meta.get("HTTPHeaders") or {}).get("x-amz-bucket-region")
        if region:
            details["region"] = region
        return CheckResult.passed(f"bucket {self.bucket!r} answered HeadBucket", details=details)

    def close(self) -> None:
        """Close the client this check made (a client you passed stays open)."""
        if self._boto3 is None:
            return
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
        remove_redaction("botocore", self._redact)
        self._redact = None

    def _kept_client(self) -> Any:
        with self._lock:  # two overlapping first runs must not make two clients
            if self._client is None:
                assert self._boto3 is not None
                config = self._botocore_config.Config(
                    connect_timeout=self.timeout,
                    read_timeout=self.timeout,
                    retries={"total_max_attempts": 1},
                    user_agent_extra="healthprobe",
                )
                # A session of its own: boto3's default session is not thread-safe to create.
                session = self._boto3.session.Session()
                self._client = session.client("s3", config=config, **self._options)
                # botocore logs signed requests at DEBUG, the session token included.
                self._redact = redact_loggers("botocore", self.secrets)
            return self._client


def _client_error(exc: Any, details: dict[str, Any]) -> CheckResult:
    """The failure for an answer other than 200 (HeadBucket answers have no body)."""
    response = getattr(exc, "response", None) or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    code = str((response.get("Error") or {}).get("Code") or "")
    details["http_status"] = status
    if status == 404 or code in ("404", "NoSuchBucket"):
        return CheckResult.failed(f"no such bucket: {details['bucket']!r}", details=details)
    if status == 403 or code in ("403", "AccessDenied"):
        return CheckResult.failed("access denied to the bucket", details=details)
    return CheckResult.failed(f"HTTP {status}: {code or 'error'}", details=details)
