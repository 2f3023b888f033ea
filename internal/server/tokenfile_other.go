//go:build !unix

package server

import (
	"fmt"
	"os"
)

// checkTokenFileOwner: outside Unix, file modes do not say who may write
// a file (Windows uses ACLs); protect the token file with its ACL.
func checkTokenFileOwner(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("token file %s is not a regular file", path)
	}
	return nil
}
