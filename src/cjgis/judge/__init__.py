"""Judge: the standards and the one verdict per community and category.

``rules`` and ``settings`` hold a category's rule and the run's options, ``standards`` reads
profiles (each value with its clause), ``capacity`` the two-step floating catchment,
``coverage`` the covered shares, ``verdict`` the status words, ``layers`` the checks that tie
the layers together (communities, attachments, rejected rows), and ``analysis`` the pure core
that puts network, residents and facilities through reach and judgement.

Imports: ``reach``, ``streets``, ``inputs`` and the private helpers.
"""
