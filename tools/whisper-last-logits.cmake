# Included by CMake before every project() while whisper-rs-sys builds whisper.cpp
# (set in .cargo/config.toml as CMAKE_PROJECT_INCLUDE_BEFORE; whisper-rs-sys passes
# CMAKE_* variables to CMake). It edits the build's own copy of whisper.cpp (in
# cargo's OUT_DIR, never the registry's), so that decoding the prompt computes the
# vocabulary logits for the last token only.
#
# Why: whisper.cpp decodes the initial prompt (the question's expected vocabulary,
# 20-60 tokens) in one batch and multiplies every token's state by the 51,865-word
# embedding matrix, then keeps only the last row. On one core that costs 70-90 ms
# per Mandarin answer. The line that computes the last row only is in whisper.cpp,
# commented out ("might be useful in the future"). Transcripts are unchanged: only
# the logits nobody reads are skipped (checked on the held-out sets).
#
# If whisper-rs-sys is upgraded and the text below is gone, the build stops here:
# update the two replacements, or drop the variable from .cargo/config.toml.

set(_voxhire_src "${CMAKE_CURRENT_SOURCE_DIR}/src/whisper.cpp")
if(NOT EXISTS "${_voxhire_src}")
  return()   # another project (ggml) or another CMake build
endif()
file(READ "${_voxhire_src}" _voxhire_text)
if(_voxhire_text MATCHES "voxhire: last-token logits")
  return()   # already patched (a re-run of CMake)
endif()

set(_graph_old "    //cur = ggml_view_2d(ctx0, cur, cur->ne[0], 1, cur->nb[1], (cur->ne[1] - 1)*cur->nb[1]);\n")
set(_graph_new "    // voxhire: last-token logits, when the batch wants no other row's
    bool voxhire_last_only = !worst_case && batch.n_tokens > 1;
    for (int i = 0; voxhire_last_only && i < batch.n_tokens - 1; ++i) {
        voxhire_last_only = batch.logits[i] == 0;
    }
    if (voxhire_last_only) {
        cur = ggml_view_2d(ctx0, cur, cur->ne[0], 1, cur->nb[1], (cur->ne[1] - 1)*cur->nb[1]);
    }
")
set(_copy_old "    logits_out.resize(n_tokens*n_vocab);\n    for (int i = 0; i < n_tokens; i++) {")
set(_copy_new "    logits_out.resize(n_tokens*n_vocab);
    if (n_tokens > 1 && logits->ne[1] == 1) {
        ggml_backend_tensor_get(logits, logits_out.data() + n_vocab*(n_tokens - 1), 0, sizeof(float)*n_vocab);
    } else
    for (int i = 0; i < n_tokens; i++) {")

foreach(_part graph copy)
  string(FIND "${_voxhire_text}" "${_${_part}_old}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "voxhire: ${_voxhire_src} no longer has the text "
      "tools/whisper-last-logits.cmake replaces (${_part}); update that file for this "
      "whisper.cpp, or remove CMAKE_PROJECT_INCLUDE_BEFORE from .cargo/config.toml")
  endif()
  string(REPLACE "${_${_part}_old}" "${_${_part}_new}" _voxhire_text "${_voxhire_text}")
endforeach()
file(WRITE "${_voxhire_src}" "${_voxhire_text}")
message(STATUS "voxhire: whisper.cpp computes the prompt's logits for its last token only")
