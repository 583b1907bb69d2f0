"""The workspace's life, for any front end: its folders and their engines, kept current.

``session.WorkspaceSession`` is the façade a front end (the language server)
calls. Behind it: ``folders`` (the folders and their engines), ``indexing``
(opening, walking, re-checking and rebuilding them), ``following`` (reading
a folder another process writes, and taking over), ``changes`` (file events
and unsaved buffers), ``applying`` (change batches into the engines),
``jobs`` (the writer thread), ``model_loading`` (the model and the kernels,
warmed up in the background), ``queries`` (answers merged across folders),
``status`` (the status record and the listener), ``watcher`` (changes
made outside the editor), ``recovery`` (writes the disk refused, retried),
``large_files`` (buffers over the size limit, large updates a chunk at a
time) and ``memory`` (malloc arenas kept few and trimmed). Which files
belong to a folder is the folder's ``quiver.parse.selection.FileSelector``.

Nothing here imports pygls or lsprotocol, and this package module imports
nothing: ``quiver.workspace.watcher`` must load without the engine stack.
"""
