void f() {
  // STARTER-BEGIN outer | theory/00-motivation.md § Self-check
  // STARTER-BEGIN inner | theory/00-motivation.md § Self-check
  int x = 0;
  // STARTER-END
  // STARTER-END
}
