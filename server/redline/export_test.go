package redline

// Tokenize is exported for the black-box tests.
var Tokenize = tokenize
