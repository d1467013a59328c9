{{/* streamrec chart helpers */}}
{{- define "streamrec.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "streamrec.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "streamrec.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "streamrec.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "streamrec.fullname" .)) -}}
{{- end -}}

{{- define "streamrec.claimName" -}}
{{- .Values.sharedData.existingClaim | default (printf "%s-data" (include "streamrec.fullname" .)) -}}
{{- end -}}

{{/* the container settings every streamrec pod shares: one ConfigMap, one Secret, /data */}}
{{- define "streamrec.container" -}}
image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
imagePullPolicy: {{ .Values.image.pullPolicy }}
envFrom:
  - configMapRef: { name: {{ include "streamrec.fullname" . }}-config }
  - secretRef: { name: {{ include "streamrec.secretName" . }}, optional: true }
volumeMounts:
  - { name: data, mountPath: /data }
securityContext: {{- toYaml .Values.containerSecurityContext | nindent 2 }}
{{- end -}}

{{- define "streamrec.podSpec" -}}
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: data
    persistentVolumeClaim: { claimName: {{ include "streamrec.claimName" . }} }
{{- end -}}

{{/* runs before each service's container: topics of topics.yaml and the Feast definitions
     (idempotent; concurrent runs converge) */}}
{{- define "streamrec.setup" -}}
initContainers:
  - name: setup
    {{- include "streamrec.container" . | nindent 4 }}
    command: ["sh", "-c", "streamrec topics apply && streamrec features apply"]
{{- end -}}
