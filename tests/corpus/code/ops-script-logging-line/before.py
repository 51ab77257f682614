"""Maintenance helper: report the state of an Auto Scaling group before draining it."""
import argparse
import logging

import boto3

log = logging.getLogger("ops.asg")
autoscaling = boto3.client("autoscaling")
ec2 = boto3.client("ec2")


def describe(group: str) -> dict:
    resp = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
    return resp["AutoScalingGroups"][0]


def drain(group: str) -> None:
    info = describe(group)
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=group,
        MinSize=0,
        DesiredCapacity=0,
    )
    ids = [i["InstanceId"] for i in info["Instances"]]
    ec2.terminate_instances(InstanceIds=ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("group")
    parser.add_argument("--drain", action="store_true")
    args = parser.parse_args()
    info = describe(args.group)
    log.info("%s: desired=%s min=%s", args.group, info["DesiredCapacity"], info["MinSize"])
    if args.drain:
        drain(args.group)


if __name__ == "__main__":
    main()
