package jsonnetlib

import (
	_ "embed"
	"fmt"

	jsonnet "github.com/google/go-jsonnet"
)

// LibraryName is the import path of the functions library:
// `local f = import "functions";`.
const LibraryName = "functions"

//go:embed functions.libsonnet
var librarySource string

// libraryContents is shared by every VM: go-jsonnet's import cache
// insists on getting the same Contents back for the same path.
var libraryContents = jsonnet.MakeContents(librarySource)

// LibrarySource returns the Jsonnet source of the functions library.
func LibrarySource() string { return librarySource }

// importer resolves the functions library and nothing else: templates
// cannot read files.
type importer struct{}

var _ jsonnet.Importer = importer{}

// Import implements jsonnet.Importer.
func (importer) Import(_, importedPath string) (jsonnet.Contents, string, error) {
	if importedPath == LibraryName {
		return libraryContents, LibraryName, nil
	}
	return jsonnet.Contents{}, "", fmt.Errorf("cannot import %q: only the %q library can be imported", importedPath, LibraryName)
}
