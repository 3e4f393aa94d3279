"""Recording a dialled call when its campaign says so (``recording`` in the campaign).

Once the agent's phone answers, the campaign's ``announcement`` prompt (if any)
is played to the customer, then the relay starts and with it the recorder on
the customer's endpoint (customer left, agent right in stereo) — the same
`Recorder` and store as an inbound queue's recording (docs/recording.md). When
the bridge ends the WAV is written off the loop; the call archive waits for it
and files the call's CDR with its ``recording_id``, and the recording is
linked to the contact and, at the completion, the customer's history.
"""

from __future__ import annotations

from dialer.campaign import RecordingRule
from ivr.media.audio import PromptLibrary
from ivr.media.recorder import Recorder
from ringway.dialer_live.bridge import AgentPhones
from ringway.dialer_live.dial_record import DialFacts
from ringway.schema import RecordingDoc
from ringway.telephony_records import CallArchive


class DialRecording:
    def __init__(self, archive: CallArchive, prompts: PromptLibrary) -> None:
        self.archive, self.prompts = archive, prompts

    def wire(self, phones: AgentPhones, rule: RecordingRule, facts: DialFacts) -> None:
        """Make ``phones`` announce and record its bridge, when ``rule`` is enabled."""
        if not rule.enabled:
            return
        policy = RecordingDoc(enabled=True, announcement=rule.announcement, format=rule.format)
        if rule.announcement:
            phones.announcement = self.prompts.get(rule.announcement)

        def start() -> Recorder | None:
            call_id = facts.line.call_id
            if facts.contact_id is None or call_id is None:
                return None
            return self.archive.start_recording(facts.contact_id, call_id, policy)

        def stop() -> None:
            if facts.line.call_id is not None:
                self.archive.stop_recording(facts.line.call_id)

        phones.start_recording, phones.stop_recording = start, stop
