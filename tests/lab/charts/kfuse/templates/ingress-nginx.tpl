{{- $ingress := index .Values "ingress-nginx" }}
{{- if $ingress.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kfuse-ingress-nginx-controller
  labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}}
    spec:
      {{- with $ingress.controller.affinity }}
      affinity: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $ingress.controller.tolerations }}
      tolerations: {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: controller
          image: kfuse/ingress-nginx:lab
          args: [--ingress-class={{ $ingress.controller.ingressClass }}]
{{- end }}
{{- if $ingress.installIngressRules }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: kfuse-ingest
  labels: {app.kubernetes.io/instance: {{ .Release.Name }}}
spec:
  ingressClassName: {{ $ingress.controller.ingressClassResource.name }}
  defaultBackend:
    service:
      name: az-service
      port: {number: 8080}
{{- end }}
