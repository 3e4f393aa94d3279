"""What the telephony driver plugs into: recordings, CDRs and its own call control.

`ringway.app.build` makes one `CallRecords` (``bundle.calls``, also
``app.state.calls``); the app's lifespan starts and closes it. The SIP driver
uses ``calls.recordings`` and ``calls.cdrs`` and registers itself as
``calls.call_control`` so the monitoring API can reach it.
"""

from __future__ import annotations

from pathlib import Path

from ringway.cdr import CallDetails, CdrStore
from ringway.monitoring import CallControl
from ringway.recordings import Recordings, RecordingStore
from ringway.service import RoutingService


class CallRecords:
    def __init__(self, service: RoutingService) -> None:
        config = service.config
        database = Path(config.path_setting(config.service.call_records))
        directory = Path(config.path_setting(config.service.recordings_dir))
        self.recordings = Recordings(service, RecordingStore(directory, database))
        self.cdrs = CallDetails(service, CdrStore(database))
        self.call_control: CallControl | None = None  # set by the telephony driver

    def start(self) -> None:
        self.cdrs.start()

    async def close(self) -> None:
        try:
            await self.cdrs.close()
        finally:
            await self.recordings.store.close()
