{{- $c := .Values.controller }}
{{- $name := printf "%s-controller" .Release.Name }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: controller}
spec:
  replicas: {{ $c.replicaCount }}
  selector:
    matchLabels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: controller}
  template:
    metadata:
      labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: controller}
    spec:
      {{- with $c.nodeSelector }}
      nodeSelector: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.affinity }}
      affinity: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations: {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:lab
          args:
            - --ingress-class={{ $c.ingressClass }}
            - --controller-class={{ $c.ingressClassResource.controllerValue }}
            - --election-id={{ $c.electionID | default (printf "%s-leader" .Release.Name) }}
          ports:
            - {name: http, containerPort: 80, protocol: TCP}
            - {name: https, containerPort: 443, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}}
  {{- with $c.service.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $c.service.type }}
  selector: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: controller}
  ports:
    - {name: http, port: 80, targetPort: http, protocol: TCP}
    - {name: https, port: 443, targetPort: https, protocol: TCP}
{{- if $c.ingressClassResource.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: {{ $c.ingressClassResource.name }}
  labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: {{ .Release.Name }}}
  {{- if $c.ingressClassResource.default }}
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
  {{- end }}
spec:
  controller: {{ $c.ingressClassResource.controllerValue }}
{{- end }}
