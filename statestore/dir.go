package statestore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultDir returns the folder for the state file: $XDG_DATA_HOME/afstudio
// (or ~/.local/share/afstudio when it is unset) on Linux and other systems,
// %LOCALAPPDATA%\afstudio on Windows. The --data flag overrides it.
func DefaultDir() (string, error) {
	return defaultDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func defaultDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if goos == "windows" {
		if d := getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "afstudio"), nil
		}
		h, err := home()
		if err != nil || h == "" {
			return "", fmt.Errorf("state folder: %%LOCALAPPDATA%% is not set and the home folder is unknown (%w); give one with --data", homeErr(err))
		}
		return filepath.Join(h, "AppData", "Local", "afstudio"), nil
	}
	// The XDG spec says a relative $XDG_DATA_HOME is invalid and ignored.
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "afstudio"), nil
	}
	h, err := home()
	if err != nil || h == "" {
		return "", fmt.Errorf("state folder: $XDG_DATA_HOME is not set and the home folder is unknown (%w); give one with --data", homeErr(err))
	}
	return filepath.Join(h, ".local", "share", "afstudio"), nil
}

func homeErr(err error) error {
	if err == nil {
		return errors.New("empty home")
	}
	return err
}
