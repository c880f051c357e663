// libcallsequence.so itself: the C API's functions (CallSequenceC) linked into a shared object that exports
// only them. This target carries the shared object's link options (SONAME, the export list in
// callsequence.map), so that executables linking CallSequenceC (the benchmarks, with their malloc interposer)
// keep their own symbol table untouched.

@_exported import CallSequenceC
