// A fixture for cmake/starter.cmake (tests/starter/check_strip.cmake): two marked regions,
// one indented deeper, and code before, between and after them.
int untouched() { return 1; }

float piece(float x) {
  const float kept = 2.0f * x;
  // STARTER-BEGIN the first piece | theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form
  // | computes: kept + 1, a description line the starter copy keeps
  // |   NumPy:  kept + 1
  const float gone = kept + 1.0f;
  return gone;
  // STARTER-END
}

void loop(int n) {
  for (int i = 0; i < n; ++i) {
    // STARTER-BEGIN a piece; with a semicolon | labs/00-block-by-hand/README.md § Step 1 · LN1
    static_cast<void>(i);
    // STARTER-END
  }
}
