"""Pictures in and out: renderers framed for a model (``renderers``), how it is shown, skin
or clay (``appearance``), turntables (``turntable``), and users' photos, checked before they
are decoded (``photos``)."""
