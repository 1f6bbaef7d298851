"""The archive stage: the store, the merge, the workspace, ingest, review and submission tracking."""
from .store import Archive, MergeResult, SubmissionMeta

__all__ = ["Archive", "MergeResult", "SubmissionMeta"]
