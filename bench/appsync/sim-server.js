// Starts amplify-appsync-simulator for schema.graphql on a port, as its own
// process (so it can be pinned like the Setsuna server). Mutation.post uses a
// NONE data source whose request template hands the input through; the
// simulator publishes the result to Subscription.onPost (@aws_subscribe).
//   node sim-server.js PORT API_KEY
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const {AmplifyAppSyncSimulator} = require('amplify-appsync-simulator');

const [port, apiKey] = [Number(process.argv[2]), process.argv[3]];
const sim = new AmplifyAppSyncSimulator({port});
sim.init({
  schema: {content: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8')},
  dataSources: [{name: 'local', type: 'NONE'}],
  resolvers: [{
    kind: 'UNIT',
    typeName: 'Mutation',
    fieldName: 'post',
    dataSourceName: 'local',
    requestMappingTemplate: '{"version": "2017-02-28", "payload": $util.toJson($context.arguments.input)}',
    responseMappingTemplate: '$util.toJson($context.result)',
  }],
  appSync: {
    name: 'bench',
    defaultAuthenticationType: {authenticationType: 'API_KEY'},
    apiKey,
    additionalAuthenticationProviders: [],
  },
});
sim.start().then(() => console.log('simulator listening'), err => {
  console.error(err);
  process.exit(1);
});
process.on('SIGTERM', () => {
  sim.stop();
  process.exit(0);
});
