"""Roll a Deployment's pods by patching its template annotation."""
import datetime
import logging

from kubernetes import client, config

log = logging.getLogger("ops.restart")


def restart(ns: str, name: str) -> None:
    config.load_kube_config()
    apps_api = client.AppsV1Api()
    restarted_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
    patch_body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": restarted_at}}}}}
    apps_api.patch_namespaced_deployment(name, ns, patch_body)
    log.info("restarted %s/%s at %s", ns, name, restarted_at)
