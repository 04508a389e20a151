// Package newcomer tests the repository as a new user meets it: the
// README's quick start, pasted into a module of its own, builds, runs and
// answers the README's curl commands as the README says (TestQuickStart);
// go.mod asks for no newer Go than a first 1.26 release, and go mod tidy
// keeps it so (TestGoModDirective). It has no code outside its tests.
package newcomer
