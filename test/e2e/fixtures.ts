/**
 * Manifests shared by the e2e tests of several clients (kubectl 1.32 and 1.35 run the same flows).
 */

/** A Deployment for apply flows. */
export const DEPLOY_V1 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    tier: front
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
`;

/** The second apply changes the image, removes env B and the tier label. */
export const DEPLOY_V2 = DEPLOY_V1.replace('nginx:1.25', 'nginx:1.26').replace('    tier: front\n', '').replace(/        - name: B\n          value: "2"\n/, '');
