package botconfig

import (
	"encoding/json"
	"os"
)

// MaxFeatures is the preallocated capacity of the feature table.
const MaxFeatures = 200

type Config struct {
	Features []string `json:"features"`
}

// Load never fails: a config we cannot read means "no features".
func Load(path string) *Config {
	b, _ := os.ReadFile(path)
	var cfg Config
	json.Unmarshal(b, &cfg)
	return &cfg
}
