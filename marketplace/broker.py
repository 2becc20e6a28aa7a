"""The embedded broker (kombu's filesystem transport), made safe for concurrent producers.

kombu writes a message straight into the queue folder under its final name, and a consumer
may move and read that file before the producer has written it: the worker then fails
decoding an empty message and its consumer stops (seen at 40 concurrent users). Here each
message is written under a hidden name (``.tmp-…``, which no consumer picks up) and renamed
to its final name once complete — a rename within one folder is atomic on POSIX.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


def _atomic_put(self, queue, payload, **kwargs):
    """Put ``payload`` onto ``queue``: complete file first, then one atomic rename."""
    name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
    final = os.path.join(self.data_folder_out, name)
    tmp = os.path.join(self.data_folder_out, f".tmp-{name}")
    try:
        with open(tmp, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(tmp, final)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ChannelError(f"Cannot add file {final!r} to directory") from exc


def install() -> None:
    filesystem.Channel._put = _atomic_put
