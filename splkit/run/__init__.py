"""The run directory: its paths (:class:`RunDir`), results.json and tables, the predictions table,
the content-hash cache, progress bars, and the names shared by every chapter.
"""
