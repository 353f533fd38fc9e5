void f() {
  // STARTER-BEGIN bad "quote" | theory/00-motivation.md § Self-check
  // STARTER-END
}
