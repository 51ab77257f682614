"""Roll a Deployment's pods by patching its template annotation."""
import datetime
import logging

from kubernetes import client, config

log = logging.getLogger("ops.restart")


def restart(ns: str, name: str) -> None:
    config.load_kube_config()
    api = client.AppsV1Api()
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
    body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    api.patch_namespaced_deployment(name, ns, body)
    log.info("restarted %s/%s at %s", ns, name, stamp)
