environment     = "staging"
instance_type   = "t3.xlarge"
min_size        = 2
max_size        = 8
alarm_email     = "oncall-staging@acme.example"
allowed_cidrs   = ["10.0.0.0/8"]
