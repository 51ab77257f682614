package botconfig

import (
	"encoding/json"
	"fmt"
	"os"
)

// MaxFeatures is the preallocated capacity of the feature table.
const MaxFeatures = 200

type Config struct {
	Features []string `json:"features"`
}

func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(cfg.Features) > MaxFeatures {
		return nil, fmt.Errorf("%s: %d features, more than %d", path, len(cfg.Features), MaxFeatures)
	}
	return &cfg, nil
}
