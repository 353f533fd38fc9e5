void f() {
  // STARTER-BEGIN no bar here § somewhere
  int x = 0;
  // STARTER-END
}
