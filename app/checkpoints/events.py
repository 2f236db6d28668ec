"""What the checkpoint intake announces to the features above it. They subscribe to these signals (blinker,
which Flask uses for its own), so the intake does not import them and the layers stay one-way.

`submission_accepted` is sent inside the acceptance's transaction, before it is audited, with `session`,
`submission` and `folder` (the pinned files): the licence feature records its verdict on the submission then.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()
submission_accepted = signals.signal("submission-accepted")
