environment     = "staging"
instance_type   = "t3.large"
min_size        = 2
max_size        = 6
alarm_email     = "oncall-staging@acme.example"
allowed_cidrs   = ["10.0.0.0/8"]
