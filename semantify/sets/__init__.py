"""Slider sets: what a set is and does (``sliders``: ``SliderSet``, ``Shape``), its folder on
disk (``slider_files``), the mapper from slider values to coefficients (``mapper``), meeting
measurements (``metric_fit``, ``coupling``), word sliders' units and receipts (``word_scale``,
``receipts``), photos, text and random shapes (``inference``), the params file (``params``),
how good a set is (``evaluation``), its model card (``model_card``, ``card_metadata``) and the
Hub (``hub``)."""
