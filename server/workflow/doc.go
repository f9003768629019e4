// Package workflow holds the rules of a negotiation as pure functions.
//
// Decide takes the state of a negotiation and a command and returns the
// events the command produces, or a typed *Error saying why it is refused.
// Apply folds one event into the state. Folding a negotiation's whole log from
// an empty state gives its state back: that is the only way state changes.
//
// Nothing here does I/O, reads the clock or draws random numbers: identifiers
// and timestamps arrive inside commands, so the same log always folds to the
// same state.
package workflow
