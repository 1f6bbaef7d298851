"""The archive stage: the store, the merge, the workspace, ingest, review and submission tracking."""
__all__ = ["Archive", "MergeResult", "SubmissionMeta"]


def __getattr__(name: str):
    """``Archive`` and its kin, imported from the store when first asked for: a light module of this package
    (the workspace, the journal) does not import the store, and pandas with it."""
    if name in __all__:
        from . import store
        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
