"""Every model of the API, imported in one place for Alembic and metadata.create_all."""
from services.api.audit.models import AuditEvent  # noqa: F401
from services.api.audit.models import AuditChainHead  # noqa: F401
from services.api.auth.models import LoginFailure, RefreshToken  # noqa: F401
from services.api.db import Base  # noqa: F401
from services.api.devices.models import Device, TimetableSlot, UnmatchedRecording  # noqa: F401
from services.api.moderation.models import ModerationDecision  # noqa: F401
from services.api.notifications.models import Notification  # noqa: F401
from services.api.orgs.models import District, School, User  # noqa: F401
from services.api.pairing.models import Pairing  # noqa: F401
from services.api.pairing.models import ActivityResource, PairingActivity, PairingPlan  # noqa: F401
from services.api.playback.models import PlayRecord  # noqa: F401
from services.api.reports.models import ResourceReport  # noqa: F401
from services.api.resources.models import Asset, Resource  # noqa: F401
from services.api.screening.models import BlockedHash, SensitiveLexicon, SensitiveWord  # noqa: F401
from services.api.search.models import SearchOutbox  # noqa: F401
from services.api.uploads.models import Blob, Upload  # noqa: F401
from services.api.taxonomy.models import Chapter, Edition, Grade, KnowledgePoint, Stage, Subject, Volume  # noqa: F401
from services.api.moderation.models import ReviewPolicy  # noqa: F401
from services.api.resources.models import ResourceRevision  # noqa: F401
from services.api.orgs.models import Region  # noqa: F401
from services.api.campaigns.models import (Assignment, Campaign, CampaignLevel, CampaignPackage,  # noqa: F401
                                           Certificate, Entry, Objection, PackageItem, Panel)
from services.api.subtitles.models import SubtitleTrack  # noqa: F401
from services.api.stats.models import ParticipationSnapshot  # noqa: F401
from services.api.playback.models import ActivePlay  # noqa: F401
