-- Bot management: feature metadata read by the feature-file generator.
CREATE TABLE IF NOT EXISTS r0.bot_features
(
    name String,
    type LowCardinality(String),
    updated_at DateTime
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY name;
